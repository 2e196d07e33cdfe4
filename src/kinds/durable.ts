/** How durably a file is written is not what the job does: `--resume --fsync` skips a copy done without it. */
export function withoutFsync<T extends { fsync?: boolean }>(spec: T): Omit<T, 'fsync'> {
  if (!('fsync' in spec)) return spec;
  const { fsync: _, ...rest } = spec;
  return rest;
}
