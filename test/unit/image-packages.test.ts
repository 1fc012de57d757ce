import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HOST_PACKAGES, importChanges, missingPackages, PACKAGES_LABEL } from '../../src/image/host-image.js';

const dockerfile = readFileSync(new URL('../../image/Dockerfile', import.meta.url), 'utf8');

describe('the host image knows what it was built with', () => {
  it('both build methods install and label the same packages', () => {
    const installed = /install -y --no-install-recommends \\\n\s+([^\\]+)\\/.exec(dockerfile)?.[1]?.trim().split(/\s+/);
    expect(installed).toEqual(HOST_PACKAGES);
    expect(dockerfile).toContain(`${PACKAGES_LABEL}="${HOST_PACKAGES.join(',')}"`);
    expect(importChanges().join('\n')).toContain(`${PACKAGES_LABEL}="${HOST_PACKAGES.join(',')}"`);
  });

  it('an image from before a package was added is missing it; one without the label misses all', () => {
    const before = HOST_PACKAGES.filter((p) => p !== 'containernetworking-plugins').join(',');
    expect(missingPackages({ [PACKAGES_LABEL]: before })).toEqual(['containernetworking-plugins']);
    expect(missingPackages({ [PACKAGES_LABEL]: HOST_PACKAGES.join(',') })).toEqual([]);
    expect(missingPackages({})).toEqual(HOST_PACKAGES);
  });
});
