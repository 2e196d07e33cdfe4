export interface DownloadSpec {
  url: string;
  to: string;
  sha256?: string;
  overwrite: boolean;
  headers?: Record<string, string>;
  /** As CopySpec's. */
  fsync?: boolean;
}

export interface DownloadAction {
  kind: 'download';
  download: DownloadSpec;
}
