export interface SampleApi {
  /** The API root, e.g. `http://127.0.0.1:8080/v1`. */
  readonly url: string;
  close(): Promise<void>;
}

export declare function startSampleApi(options?: { port?: number; token?: string }): Promise<SampleApi>;
