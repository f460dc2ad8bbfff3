/** API errors in OpenAI's exact `{error:{message,type,param,code}}` shape. */

export type ApiErrorType = 'invalid_request_error' | 'authentication_error' | 'not_found_error' | 'rate_limit_error' | 'server_error';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: ApiErrorType,
    message: string,
    readonly code: string | null = null,
    readonly param: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  toBody(): { error: { message: string; type: string; param: string | null; code: string | null } } {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

export const badRequest = (message: string, param: string | null = null, code: string | null = null): ApiError =>
  new ApiError(400, 'invalid_request_error', message, code, param);

export const notFound = (message: string): ApiError => new ApiError(404, 'invalid_request_error', message, 'not_found');

export const unauthorized = (): ApiError =>
  new ApiError(401, 'invalid_request_error', 'Incorrect API key provided. The emulator expects its own key.', 'invalid_api_key');

export const rateLimited = (retryAfterSeconds: number): ApiError =>
  new ApiError(429, 'rate_limit_error', 'Rate limit reached (injected by the emulator fault plan).', 'rate_limit_exceeded', null, {
    'retry-after': String(retryAfterSeconds),
  });

export const serverError = (status = 500, message = 'The server had an error while processing your request.'): ApiError =>
  new ApiError(status, 'server_error', message, 'server_error');
