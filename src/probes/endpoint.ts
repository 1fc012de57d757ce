// Where a probe runs: a container, optionally inside one of its network namespaces (a pod).
export interface Endpoint {
  container: string;
  netns?: string;
  label: string; // "host1/pod1", for messages
}

/** The argv prefix that runs a command at the endpoint, inside its container. */
export function inEndpoint(endpoint: Endpoint, argv: string[]): string[] {
  return endpoint.netns ? ['ip', 'netns', 'exec', endpoint.netns, ...argv] : argv;
}
