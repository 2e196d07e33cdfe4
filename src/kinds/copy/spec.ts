export interface CopySpec {
  from: string;
  to: string;
  overwrite: boolean;
  /** Sync the data and the folder (`"fsync": true` or --fsync); without it the copy is atomic, not durable. */
  fsync?: boolean;
}

export interface CopyAction {
  kind: 'copy';
  copy: CopySpec;
}
