// A shell script's way to read an OVERLAB_* variable the way overlab does (src/shared/settings.ts):
// prints the value, or the default when it is unset; a bad value says why and exits 3.
//   parallel=$(node scripts/setting.mjs OVERLAB_DEMO_PARALLEL 3)
import { SETTINGS, setting } from '../dist/shared/settings.js';

const [name, fallback = ''] = process.argv.slice(2);
const key = Object.keys(SETTINGS).find((k) => SETTINGS[k].name === name);
if (!key) {
  console.error(`${name ?? '(none)'} is not one of overlab's settings (src/shared/settings.ts)`);
  process.exit(70);
}
try {
  console.log(String(setting(key, fallback)));
} catch (error) {
  console.error(`Error: ${error.message}\nTry: ${error.hint}`);
  process.exit(error.exitCode ?? 3);
}
