// One GET with Node's own client, for the System interface: the response's
// status and headers as soon as they come, the body as it arrives. Nothing
// is retried here; the caller decides what a failure means.

import * as http from 'node:http';
import * as https from 'node:https';
import type { HttpRequest, HttpResponse } from './system';

export function httpGet(url: string, request: HttpRequest): Promise<HttpResponse> {
  const client = url.startsWith('https:') ? https : http;
  return new Promise((resolve, reject) => {
    const tls = request.tls ? { ...(request.tls.ca !== null ? { ca: request.tls.ca } : {}), rejectUnauthorized: !request.tls.insecure } : {};
    const req = client.get(url, { headers: { 'user-agent': 'cowboot', ...request.headers }, ...tls }, (res) => {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(res.headers)) if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
      resolve({ status: res.statusCode ?? 0, headers, body: res });
    });
    req.setTimeout(request.idleTimeoutMs, () => req.destroy(new Error(`no data from the server for ${Math.round(request.idleTimeoutMs / 1000)} s`)));
    req.on('error', reject);
  });
}
