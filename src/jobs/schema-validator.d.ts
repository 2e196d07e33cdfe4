/** Types of dist/jobs/schema-validator.js, which scripts/build-validator.mjs generates from the schema. */
export interface SchemaError {
  /** JSON pointer of the failing value, e.g. `/jobs/3/download/url`. */
  instancePath: string;
  schemaPath: string;
  keyword: string;
  params: Record<string, unknown>;
  /** The failing value (ajv's `verbose`). */
  data?: unknown;
  /** The schema object holding the failing keyword (ajv's `verbose`). */
  parentSchema?: SchemaNode;
}

export interface SchemaNode {
  description?: string;
  properties?: Record<string, unknown>;
  propertyNames?: SchemaNode;
  [keyword: string]: unknown;
}

export interface Validator {
  (data: unknown): boolean;
  errors?: SchemaError[] | null;
}

/** The whole job file: an array of jobs, or `{ $schema?, defaults?, jobs }`. */
export const validateFile: Validator;
/** One job (`#/$defs/job`): a JSONL line, a job given to the library. */
export const validateJob: Validator;
