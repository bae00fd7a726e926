// How a setting stands in the JSON config file. A form checks the JSON type
// and turns the value into the text the command line would carry, so the
// setting's one parser validates both; JSON null stands for the default.

type JsonRead = { readonly ok: true; readonly text: string | null } | { readonly ok: false; readonly expected: string };

/** `expected` is the setting's own description of a valid value. */
export type JsonForm = (json: unknown, expected: string) => JsonRead;

const read = (text: string | null): JsonRead => ({ ok: true, text });
const wrong = (expected: string): JsonRead => ({ ok: false, expected });

export const text: JsonForm = (json, expected) => (typeof json === 'string' ? read(json) : wrong(expected));

export const textOrNull: JsonForm = (json, expected) => (json === null ? read(null) : text(json, expected));

export const number: JsonForm = (json, expected) => (typeof json === 'number' ? read(String(json)) : wrong(expected));

/** true and false are the command line's 1 and 0. */
export const boolean: JsonForm = (json) => (typeof json === 'boolean' ? read(json ? '1' : '0') : wrong('true or false'));

/** A list is the command line's comma-separated text; an item with a comma in it would read as two, so it is not valid. */
export function list(expectedList: string): JsonForm {
  return (json, expected) => {
    if (!Array.isArray(json) || !json.every((item) => typeof item === 'string')) return wrong(expectedList);
    return json.some((item) => item.includes(',')) ? wrong(expected) : read(json.join(','));
  };
}
