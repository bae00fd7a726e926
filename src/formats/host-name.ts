// A server as the network roots name it: a DNS name or an IPv4 address
// (whose dotted digits are valid labels too).

const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

export function isHostName(text: string): boolean {
  return text.length <= 253 && HOST.test(text);
}
