/**
 * A self-signed TLS certificate for 127.0.0.1 (EC P-256, valid until 2126) and its key, for tests
 * that need a real https server. Test-only: the key is public, so is anything it protects. A client
 * must trust it explicitly (or turn verification off for the test).
 */
export const TEST_TLS_CERT = `-----BEGIN CERTIFICATE-----
MIIBkTCCATagAwIBAgIUFpXEfya1/40AWH9PcgXws1q0pXAwCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJMTI3LjAuMC4xMCAXDTI2MTEyODA3NDkzNloYDzIxMjYxMTA0
MDc0OTM2WjAUMRIwEAYDVQQDDAkxMjcuMC4wLjEwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAAROcpTSPXfVX0xONNwi+zxuJczuv+1NTCK2R5L3ewYioYU/iE5qGdV0
YTmm94TjFQpkPQrnnY81cLO+K3/SAuvco2QwYjAdBgNVHQ4EFgQUNV9nZf/jrk8e
iMNDUWd8/M7zxbwwHwYDVR0jBBgwFoAUNV9nZf/jrk8eiMNDUWd8/M7zxbwwDwYD
VR0TAQH/BAUwAwEB/zAPBgNVHREECDAGhwR/AAABMAoGCCqGSM49BAMCA0kAMEYC
IQDKWWeWWlwMO+wQt7gQOUlIaaEq55gPUiL8fZQtdcrFDwIhAP8OX7bOnwC5zB+S
RMH3/GPYhFKwMpvc5sfxJzUiTuvd
-----END CERTIFICATE-----`;

export const TEST_TLS_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgAyJN5/3J6olqHGQO
DXSOtvhPw6nVWrRVB7iLgJEUJ2ihRANCAAROcpTSPXfVX0xONNwi+zxuJczuv+1N
TCK2R5L3ewYioYU/iE5qGdV0YTmm94TjFQpkPQrnnY81cLO+K3/SAuvc
-----END PRIVATE KEY-----`;
