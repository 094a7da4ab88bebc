/** The part of the `aws4` package (which ships no types) the SigV4 checking proxy uses. */
export interface Aws4Request {
  method?: string;
  host?: string;
  path?: string;
  service?: string;
  region?: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface Aws4Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export class RequestSigner {
  constructor(request: Aws4Request, credentials?: Aws4Credentials);
  /** Reads the time from x-amz-date and parses the path; signature() uses the clock without. */
  prepareRequest(): void;
  signature(): string;
  signedHeaders(): string;
  canonicalString(): string;
}

declare const aws4: {
  RequestSigner: typeof RequestSigner;
  sign(request: Aws4Request, credentials?: Aws4Credentials): Aws4Request;
};
export default aws4;
