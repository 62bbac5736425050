import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonPieces } from '../../src/report/jsonText.js';

describe('jsonPieces', () => {
  it('joins to exactly JSON.stringify(value, null, 2), each piece but the last ending a line', () => {
    const value = fc.oneof(
      fc.object({ values: [fc.jsonValue(), fc.constant(undefined)] }),
      fc.dictionary(fc.string(), fc.array(fc.oneof(fc.jsonValue(), fc.constant(undefined)))),
      fc.jsonValue(),
    );
    fc.assert(
      fc.property(value, (v) => {
        const pieces = [...jsonPieces(v)];
        expect(pieces.join('')).toBe(JSON.stringify(v, null, 2) ?? 'null');
        for (const piece of pieces.slice(0, -1)) expect(piece.endsWith('\n')).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('gives an inspection-like document one piece per environment', () => {
    const doc = { kind: 'parent', environments: [{ name: 'a', problems: [] }, { name: 'b', x: undefined }], skipped: [] };
    const pieces = [...jsonPieces(doc)];
    expect(pieces.join('')).toBe(JSON.stringify(doc, null, 2));
    expect(pieces.filter((p) => p.includes('"name"'))).toHaveLength(2);
  });
});
