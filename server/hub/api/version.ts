/**
 * The JupyterHub version Lectern speaks. Single-user servers read it from every response's
 * `X-JupyterHub-Version` header and warn on a major.minor mismatch.
 */
export const JUPYTERHUB_VERSION = '3.0.0';
