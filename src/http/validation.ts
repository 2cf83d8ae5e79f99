import { AjvCompiler, type BuildCompilerFromPool } from '@fastify/ajv-compiler';

const ajvCompilers = AjvCompiler();

/**
 * Request validation with Fastify's own Ajv compiler, in two flavours. Query strings, path
 * parameters and headers arrive as text, so their values are coerced to the schema's types
 * ("50" → 50). A JSON body arrives typed, so it is taken as sent: `{"code":123456}` or
 * `{"username":["a"]}` is refused instead of being quietly turned into a string. (Form posts carry
 * only strings, which is what the page schemas ask for.)
 */
export const buildValidator: BuildCompilerFromPool = (externalSchemas, options) => {
  const customOptions = options?.mode === 'JTD' ? {} : (options?.customOptions ?? {});
  const coercing = ajvCompilers(externalSchemas, options);
  const exact = ajvCompilers(externalSchemas, { ...options, mode: undefined, customOptions: { ...customOptions, coerceTypes: false } });
  return (route) => (route.httpPart === 'body' ? exact(route) : coercing(route));
};
