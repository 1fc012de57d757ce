// iptables-nft (and ebtables-nft) make an nftables table the first time a rule goes into it, and
// neither tool can remove a table again; the image has no `nft`. So that a fault which was the
// first to use a table leaves no empty table behind, `clear` removes it with one nfnetlink
// message (NFT_MSG_DELTABLE in a batch), sent by perl (perl-base is in every Debian system).
// The script is constant text; the family and the table name are its arguments, both checked
// against fixed lists here and again by the script. The caller first checks that the table is
// empty: the kernel would delete a table with its rules.
import type { ContainerRuntime } from '../runtime/runtime.js';
import { environmentError } from '../base/errors.js';
import { inNamespace, namespaceKey, type Namespace } from './namespace.js';

const TABLES = new Set(['filter', 'nat', 'mangle', 'raw', 'security', 'broute']);

export const DELETE_TABLE_SCRIPT = `use strict; use warnings; use Socket;
my ($family, $table) = @ARGV;
my %fam = (ip => 2, bridge => 7);
die "usage: ip|bridge <table>\\n" unless defined $family && defined $table && exists $fam{$family} && $table =~ /^[a-z]{1,15}$/;
socket(my $s, 16, SOCK_RAW, 12) or die "netlink socket: $!\\n";
my $seq = time;
sub msg { my ($type, $flags, $f, $res, $payload) = @_; my $body = pack('CCn', $f, 0, $res) . $payload; my $len = 16 + length($body); return pack('LSSLL', $len, $type, $flags, $seq++, 0) . $body . ("\\0" x ((4 - $len % 4) % 4)); }
my $name = $table . "\\0"; my $alen = 4 + length($name);
my $attr = pack('SS', $alen, 1) . $name . ("\\0" x ((4 - $alen % 4) % 4));
my $batch = msg(0x10, 1, 0, 10, '') . msg((10 << 8) | 2, 1 | 4, $fam{$family}, 0, $attr) . msg(0x11, 1, 0, 10, '');
send($s, $batch, 0, pack('SSLL', 16, 0, 0, 0)) or die "netlink send: $!\\n";
my $buf = ''; recv($s, $buf, 8192, 0);
my ($len, $type) = unpack('LS', $buf);
if (defined $type && $type == 2) { my $err = unpack('l', substr($buf, 16, 4)); if ($err) { $! = -$err; die "delete table $family $table: $!\\n"; } }
`;

export function deleteTableArgv(family: 'ip' | 'bridge', table: string): string[] {
  if (!TABLES.has(table)) throw new Error(`refusing to delete nftables table "${table}"`);
  return ['env', 'LC_ALL=C', 'perl', '-e', DELETE_TABLE_SCRIPT, family, table];
}

export async function deleteEmptyTable(runtime: ContainerRuntime, ns: Namespace, family: 'ip' | 'bridge', table: string, signal?: AbortSignal): Promise<void> {
  const r = await runtime.exec(ns.container, inNamespace(ns, deleteTableArgv(family, table)), signal ? { signal } : {});
  if (r.exitCode !== 0) throw environmentError(`removing the empty ${family === 'ip' ? 'iptables' : 'ebtables'} table ${table} in ${namespaceKey(ns)} failed: ${r.stderr.trim()}`);
}
