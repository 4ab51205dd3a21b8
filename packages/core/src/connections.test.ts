import { afterEach, describe, expect, it } from "vitest";
import { connectionBaseUrl, resolveConnection } from "./connections.js";
import { clearSecrets, redact } from "./redact.js";

afterEach(clearSecrets);

const resolve = (value: string) => resolveConnection("c", { XO_CONN_C: value });

describe("resolveConnection", () => {
  it("reads the URIs Airflow's get_uri() writes, including ones without a host", () => {
    expect(resolve("aws://AKIA:s3%2Fcr%2Bt@/?region_name=us-east-1&endpoint_url=http%3A%2F%2F127.0.0.1%3A5000")).toEqual({
      id: "c",
      type: "aws",
      login: "AKIA",
      password: "s3/cr+t",
      extra: { region_name: "us-east-1", endpoint_url: "http://127.0.0.1:5000" },
    });
    expect(resolve("snowflake://loader:p%40ss@127.0.0.1:4444/?account=xo-test&protocol=http")).toMatchObject({
      type: "snowflake",
      host: "127.0.0.1",
      port: 4444,
      login: "loader",
      password: "p@ss",
      extra: { account: "xo-test", protocol: "http" },
    });
    expect(resolve("http://agent%40acme.com:tok-123@127.0.0.1:5555/v1")).toMatchObject({ login: "agent@acme.com", host: "127.0.0.1", port: 5555, schema: "v1" });
    expect(resolve('google-cloud-platform://?__extra__=%7B%22project%22%3A+%22p%22%7D')).toMatchObject({ type: "google_cloud_platform", extra: { project: "p" } });
  });

  it("reads Airflow's JSON connection format", () => {
    expect(resolve('{"conn_type": "http", "host": "https://api.example.com", "port": 443, "password": "tok-9999", "extra": "{\\"a\\": 1}"}')).toEqual({
      id: "c",
      type: "http",
      host: "https://api.example.com",
      port: 443,
      password: "tok-9999",
      extra: { a: 1 },
    });
  });

  it("registers the password so that it is masked everywhere", () => {
    resolve("http://u:hunter2-long@h");
    expect(redact("failed with hunter2-long")).toBe("failed with ***");
  });

  it("registers secrets in the host's query string, so retry warnings that print the URL mask them", () => {
    resolve('{"conn_type": "http", "host": "https://api.example.com/v1?api_key=k3y-0123456789&format=json", "password": "unused-pass"}');
    expect(redact("warn: GET https://api.example.com/v1?api_key=k3y-0123456789&format=json&page=2 failed, retrying")).toBe(
      "warn: GET https://api.example.com/v1?api_key=***&format=json&page=2 failed, retrying",
    );
    // A value that needs percent-encoding is masked both decoded and as the URL carries it.
    resolve('{"host": "https://h/x?sig=a%2Fb%2Bc%3D%3Dxyz"}');
    expect(redact("sig a/b+c==xyz and sig=a%2Fb%2Bc%3D%3Dxyz")).toBe("sig *** and sig=***");
  });

  it("registers secret-looking extras at any depth, credentials inside header values and URL passwords", () => {
    resolve(
      JSON.stringify({
        conn_type: "http",
        host: "h",
        extra: {
          headers: { Authorization: "Bearer tok-abcdef0123", "X-Trace": "trace-visible-1" },
          proxy: "http://proxyuser:proxy-pass-77@proxy:3128",
          keyfile_dict: { private_key: "-----BEGIN PRIVATE KEY-----MIIEvQ", client_email: "sa@p.iam" },
          endpoint_url: "https://files.example.com/upload?X-Amz-Signature=deadbeef0123&X-Amz-Date=20260101",
          pin: { api_key: 98765432 },
        },
      }),
    );
    expect(redact("tok-abcdef0123 proxy-pass-77 -----BEGIN PRIVATE KEY-----MIIEvQ sa@p.iam deadbeef0123 98765432")).toBe("*** *** *** *** *** ***");
    expect(redact("trace-visible-1 20260101")).toBe("trace-visible-1 20260101");
  });

  it("registers the Basic auth form of login and password", () => {
    resolve("http://agent%40acme.com:hunter2-long@h");
    expect(redact(`Authorization: Basic ${Buffer.from("agent@acme.com:hunter2-long").toString("base64")}`)).toBe("Authorization: Basic ***");
  });

  it("names the variable and never echoes the value when it is missing or malformed", () => {
    expect(() => resolveConnection("c", {})).toThrow(/connection "c" is not defined/);
    try {
      resolve('{"password": "leak-me-please"');
      throw new Error("accepted");
    } catch (e) {
      expect((e as Error).message).toContain("XO_CONN_C is invalid: not valid JSON");
      expect((e as Error).message).not.toContain("leak-me-please");
    }
    expect(() => resolve("not a uri at all")).toThrow(/not a URI or JSON object/);
  });
});

describe("connectionBaseUrl", () => {
  const conn = { id: "c", extra: {} };
  it("completes a bare host with port and a scheme from extra, schema or the connection type", () => {
    expect(connectionBaseUrl({ ...conn, host: "http://127.0.0.1:8080/v1" })?.href).toBe("http://127.0.0.1:8080/v1");
    expect(connectionBaseUrl({ ...conn, host: "https://h", port: 8443 })?.href).toBe("https://h:8443/");
    expect(connectionBaseUrl({ ...conn, host: "api.example.com" })?.href).toBe("https://api.example.com/");
    expect(connectionBaseUrl({ ...conn, host: "h", port: 81, extra: { scheme: "http" } })?.href).toBe("http://h:81/");
    expect(connectionBaseUrl({ ...conn, host: "h", schema: "http" })?.href).toBe("http://h/");
    expect(connectionBaseUrl({ ...conn, type: "http", host: "127.0.0.1", port: 5555, schema: "v1" })?.href).toBe("http://127.0.0.1:5555/v1");
    expect(connectionBaseUrl(conn)).toBeUndefined();
  });

  it("refuses other schemes, naming the connection's variable", () => {
    expect(() => connectionBaseUrl({ ...conn, host: "h", extra: { scheme: "ftp" } })).toThrow('connection "c" in XO_CONN_C is invalid: unsupported scheme "ftp": use http or https');
    expect(() => connectionBaseUrl({ ...conn, host: "bad host name" })).toThrow(/the host is not a URL or host name/);
  });
});
