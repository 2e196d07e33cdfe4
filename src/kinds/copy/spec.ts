export interface CopySpec {
  from: string;
  to: string;
  overwrite: boolean;
}

export interface CopyAction {
  kind: 'copy';
  copy: CopySpec;
}
