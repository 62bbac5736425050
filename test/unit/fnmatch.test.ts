import { describe, expect, it } from 'vitest';
import { fnmatch } from '../../src/inspect/fnmatch.js';

describe('fnmatch (Python semantics, for .tracignore)', () => {
  it.each([
    ['.hidden', '.*', true],
    ['visible', '.*', false],
    ['beta', 'b*', true],
    ['abeta', 'b*', false],
    ['a.b', '*', true],
    ['x1', 'x?', true],
    ['x12', 'x?', false],
    ['env3', 'env[0-9]', true],
    ['enva', 'env[!0-9]', true],
    ['env5', 'env[!0-9]', false],
    ['a[b', 'a[b', true],
    ['a+b', 'a+b', true],
    ['aab', 'a+b', false],
    ['^x', '[^]x', true],
  ])('%s against %s is %s', (name, pattern, expected) => {
    expect(fnmatch(name, pattern)).toBe(expected);
  });
});
