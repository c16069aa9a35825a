import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * A credential is declared once, as a security scheme: an operation that also declared the scheme's header as a
 * parameter (`X-Webhook-Secret` on `POST /incidents/webhook` was both) made generated clients ask for it twice (a
 * required `headers` argument beside the scheme's credential).
 */

interface Document {
  paths: Record<string, Record<string, { parameters?: { name: string; in: string }[]; security?: object[] }>>;
  components: { securitySchemes: Record<string, { type: string; in?: string; name?: string }> };
}

const DOCUMENT = JSON.parse(readFileSync(resolve(__dirname, '../openapi/control-plane.json'), 'utf8')) as Document;

describe('security scheme headers are not also header parameters', () => {
  it('no operation declares the header of a security scheme as a parameter', () => {
    const schemeHeaders = Object.values(DOCUMENT.components.securitySchemes)
      .filter((s) => s.type === 'apiKey' && s.in === 'header' && s.name !== undefined)
      .map((s) => s.name!.toLowerCase());
    expect(schemeHeaders).toEqual(expect.arrayContaining(['x-webhook-secret', 'x-api-key']));
    const twice: string[] = [];
    for (const [path, item] of Object.entries(DOCUMENT.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        for (const parameter of operation.parameters ?? []) {
          if (parameter.in === 'header' && schemeHeaders.includes(parameter.name.toLowerCase()))
            twice.push(`${method.toUpperCase()} ${path}: ${parameter.name}`);
        }
      }
    }
    expect(twice).toEqual([]);
  });

  it('POST /incidents/webhook is secured by the webhook secret scheme alone', () => {
    expect(DOCUMENT.paths['/incidents/webhook']!.post!.security).toEqual([{ 'webhook-secret': [] }]);
  });
});
