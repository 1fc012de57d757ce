// How big a lab may be, in one place: the schema enforces it for a spec, `node add` for a lab
// that grows (bench/scale.mjs measures the largest on a 2-core machine).

/** Hosts in one lab. */
export const MAX_HOSTS = 128;
