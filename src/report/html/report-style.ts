// The report's only stylesheet, inlined into the page: light and dark schemes from the reader's
// preference, and a print form (light, no backgrounds, tables kept whole).
export const REPORT_CSS = `
:root { color-scheme: light dark; --bg: #ffffff; --fg: #1d232b; --muted: #5b6673; --line: #c9d1da; --panel: #f4f6f9;
  --host: #eef4ff; --pod: #e9f8ef; --device: #fff4e0; --bridge: #f2ecff; --switch: #e8edf2; --external: #fdeef0;
  --ok: #1a7f37; --bad: #c62828; --tunnel: #0b7285; --trace-0: #d9480f; --trace-1: #1971c2; --trace-2: #2f9e44; --trace-3: #ae3ec9; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #14181d; --fg: #e3e8ee; --muted: #9aa6b2; --line: #3a4450; --panel: #1c2229;
    --host: #1b2536; --pod: #17291f; --device: #2f2715; --bridge: #251f36; --switch: #222a33; --external: #35191e;
    --ok: #57d37a; --bad: #ff6b6b; --tunnel: #3bc9db; --trace-0: #ff8c42; --trace-1: #4dabf7; --trace-2: #69db7c; --trace-3: #da77f2; }
}
* { box-sizing: border-box; }
body { margin: 0; padding: 24px; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; background: var(--bg); color: var(--fg); }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
.muted { color: var(--muted); }
.degraded { color: var(--bad); border: 1px solid var(--bad); border-radius: 6px; padding: 6px 10px; }
.diagram { overflow-x: auto; background: var(--panel); border: 1px solid var(--line); border-radius: 10px; padding: 8px; }
svg.topology { display: block; max-width: 100%; height: auto; font: 12px system-ui, sans-serif; }
svg .label { fill: var(--fg); font-weight: 600; } svg .sub { fill: var(--muted); font-size: 11px; }
svg rect { stroke: var(--line); stroke-width: 1.2; }
svg .host > rect { fill: var(--host); } svg .pod > rect { fill: var(--pod); } svg .device > rect { fill: var(--device); }
svg .bridge > rect { fill: var(--bridge); } svg .switch > rect { fill: var(--switch); } svg .external > rect { fill: var(--external); }
svg .engine > rect { fill: none; stroke: var(--muted); stroke-width: 1.5; stroke-dasharray: 8 5; }
svg .tunnel line, svg .tunnel polyline { fill: none; stroke: var(--tunnel); stroke-width: 3; stroke-dasharray: 10 4; }
svg .cable { stroke: var(--muted); stroke-width: 3; } svg .veth { stroke: var(--muted); stroke-width: 2; stroke-dasharray: 1 0; }
svg .trace-line { fill: none; stroke-width: 2.5; opacity: 0.85; } svg .trace-line.reply { stroke-dasharray: 6 4; }
svg .hop circle { stroke: var(--bg); stroke-width: 1.5; } svg .hop text { fill: #fff; font-size: 10px; font-weight: 700; }
svg .drop path { stroke: var(--bad); stroke-width: 4; stroke-linecap: round; }
${[0, 1, 2, 3].map((i) => `svg .trace-${i} .trace-line { stroke: var(--trace-${i}); } svg .trace-${i} .hop circle { fill: var(--trace-${i}); } .swatch-${i} { background: var(--trace-${i}); }`).join('\n')}
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; font-size: 12.5px; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 600; } td.mono, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, monospace; font-size: 12px; }
.change { color: var(--trace-0); }
.pass { color: var(--ok); font-weight: 600; } .fail, .error { color: var(--bad); font-weight: 600; }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 50%; vertical-align: -1px; margin-right: 6px; }
.trace-block { display: grid; gap: 8px; }
.hosts { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 16px; }
.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; padding: 10px 14px; }
ul.evidence { margin: 4px 0 0 18px; padding: 0; }
@media print {
  :root { --bg: #fff; --fg: #000; --muted: #444; --line: #999; --panel: #fff; --host: #fff; --pod: #fff; --device: #fff; --bridge: #fff; --switch: #fff; --external: #fff; }
  body { padding: 0; font-size: 11px; } .diagram, .panel { border-color: #999; }
  h2 { break-after: avoid; } table, .panel, .diagram { break-inside: avoid; }
}
`;
