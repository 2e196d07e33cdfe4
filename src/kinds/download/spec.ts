export interface DownloadSpec {
  url: string;
  to: string;
  sha256?: string;
  overwrite: boolean;
  headers?: Record<string, string>;
}

export interface DownloadAction {
  kind: 'download';
  download: DownloadSpec;
}
