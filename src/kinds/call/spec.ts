export interface CallSpec {
  /** Absolute path or URL of the module. */
  module: string;
  export: string;
  args: unknown[];
}

export interface CallAction {
  kind: 'call';
  call: CallSpec;
}
