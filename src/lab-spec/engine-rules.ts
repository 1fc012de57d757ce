// Rules for a lab spread over several engines: each engine says how to reach it (host or context,
// not both), every `engine:` names one of them, and an engine a spec names but no host uses is
// pointed out (it would only carry a switch).
import type { RuleState } from './rule-state.js';
import type { PathSeg } from './yaml-source.js';
import { closest } from './suggest.js';

export function checkEngines(st: RuleState): void {
  const engines = st.draft.lab.engines;
  const names = Object.keys(engines ?? {});
  for (const [name, e] of Object.entries(engines ?? {})) {
    if (!e) continue;
    const path: PathSeg[] = ['engines', name];
    if (e.host === undefined && e.context === undefined) st.err(path, `engine "${name}" says neither host nor context.`, 'Give it host: (unix://…, tcp://host:2376 or ssh://user@host) or context: (a Docker context name).');
    if (e.host !== undefined && e.context !== undefined) st.err([...path, 'context'], `engine "${name}" has both host and context; a context already says where its engine is.`, 'Keep one of them.', 'key');
    if ((e.certPath !== undefined || e.tlsVerify !== undefined) && !(e.host ?? '').startsWith('tcp://')) {
      st.err([...path, e.certPath !== undefined ? 'certPath' : 'tlsVerify'], `engine "${name}": certPath and tlsVerify are for a tcp:// host.`, 'A context carries its own TLS material; ssh:// and unix:// need none.', 'key');
    }
  }
  const pinned = (list: ({ engine?: string } | undefined)[] | undefined, field: 'hosts' | 'nodes') =>
    (list ?? []).forEach((m, i) => {
      if (!m || m.engine === undefined) return;
      const path: PathSeg[] = [field, i, 'engine'];
      if (!engines) {
        st.err(path, `engine "${m.engine}" is named, but the spec has no engines: section.`, 'Declare the engines (engines: {a: {host: …}, b: {host: …}}), or drop engine: to use the one engine of the command.');
        return;
      }
      if (!names.includes(m.engine)) {
        const close = closest(m.engine, names);
        st.err(path, `unknown engine "${m.engine}".`, close ? `Did you mean "${close}"?` : `Engines: ${names.join(', ')}.`);
      }
    });
  pinned(st.draft.lab.hosts, 'hosts');
  pinned(st.draft.lab.nodes, 'nodes');
}
