// A part of a running lab that a check needs is missing or unreadable (a node gone, leases that
// cannot be read): the check is reported with status "error", never as a pass or a fail.
export class LabPartMissing extends Error {
  override readonly name = 'LabPartMissing';
}
