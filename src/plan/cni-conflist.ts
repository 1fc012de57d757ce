// Pure: the CNI network configurations a CNI host uses, and what libcni hands each plugin of a
// list (github.com/containernetworking/cni, libcni/api.go buildOneConfig): the plugin's own
// config with the list's `name` and `cniVersion` injected, plus `prevResult` (the previous
// plugin's result) when there is one. docs/cni.md tells the whole story.

/** Where a kubelet reads its network config; flannel's install-cni step writes this file. */
export const CNI_NET_DIR = '/etc/cni/net.d';
export const FLANNEL_CONFLIST_PATH = `${CNI_NET_DIR}/10-flannel.conflist`;

/** flannel's conflist, byte for byte as kube-flannel installs it (its cni-conf.json). */
export const FLANNEL_CONFLIST_TEXT = `{
  "name": "cbr0",
  "cniVersion": "0.3.1",
  "plugins": [
    {
      "type": "flannel",
      "delegate": {
        "hairpinMode": true,
        "isDefaultGateway": true
      }
    },
    {
      "type": "portmap",
      "capabilities": {
        "portMappings": true
      }
    }
  ]
}
`;

export type JsonObject = { [key: string]: unknown };

export interface PluginConf extends JsonObject {
  type: string;
}

export interface ConfList {
  name: string;
  cniVersion: string;
  plugins: PluginConf[];
}

export const FLANNEL_CONFLIST: ConfList = JSON.parse(FLANNEL_CONFLIST_TEXT) as ConfList;

/** The loopback network containerd's CRI plugin attaches first to every pod sandbox (go-cni's
 * built-in "cni-loopback"), so the pod's `lo` is up. */
export const LOOPBACK_CONFLIST: ConfList = { name: 'cni-loopback', cniVersion: '0.3.1', plugins: [{ type: 'loopback' }] };

/** JSON with every object's keys sorted, as Go's encoding/json writes a map (libcni re-encodes
 * each plugin config through a map). */
export function sortedJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const obj = value as JsonObject;
    return Object.fromEntries(Object.keys(obj).sort().map((k) => [k, sortKeys(obj[k])]));
  }
  return value;
}

/** A plugin's stdin: its config, the list's name and version, and the previous result (kept as
 * the previous plugin printed it: libcni passes a decoded result object, not a map). */
export function pluginStdin(list: ConfList, plugin: PluginConf, prevResult?: JsonObject): string {
  const config = sortKeys({ ...plugin, name: list.name, cniVersion: list.cniVersion }) as JsonObject;
  if (prevResult === undefined) return JSON.stringify(config);
  const withPrev: JsonObject = {};
  for (const key of [...Object.keys(config), 'prevResult'].sort()) withPrev[key] = key === 'prevResult' ? prevResult : config[key];
  return JSON.stringify(withPrev);
}
