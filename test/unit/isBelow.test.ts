import { describe, expect, it } from 'vitest';
import { isBelow } from '../../src/write/confinedRead.js';

/** isBelow compares resolved paths by their components, not as text. */
describe('isBelow', () => {
  it('counts a child whose name starts with two dots as below, and .. or a sibling sharing a prefix as not', () => {
    expect(isBelow('/srv/env/..hidden', '/srv/env')).toBe(true);
    expect(isBelow('/srv/env/htdocs/a', '/srv/env')).toBe(true);
    expect(isBelow('/srv/env', '/srv/env')).toBe(false);
    expect(isBelow('/srv', '/srv/env')).toBe(false);
    expect(isBelow('/srv/env2/x', '/srv/env')).toBe(false);
    expect(isBelow('/srv/other', '/srv/env')).toBe(false);
  });
});
