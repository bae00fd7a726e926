// A server as the network roots name it: a DNS name or an IPv4 address
// (whose dotted digits are valid labels too), and a TCP port on it.

const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

export function isHostName(text: string): boolean {
  return text.length <= 253 && HOST.test(text);
}

/** 1 to 65535, in decimal digits only. */
export function isPort(text: string): boolean {
  return /^\d{1,5}$/.test(text) && Number(text) >= 1 && Number(text) <= 65535;
}
