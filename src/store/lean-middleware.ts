import type { DynamoDBClient, ServiceInputTypes as Input, ServiceOutputTypes as Output } from "@aws-sdk/client-dynamodb";
import type {
  $ClientProtocol,
  $OperationSchema,
  DeserializeMiddleware,
  Endpoint,
  EndpointV2,
  HandlerExecutionContext,
  HttpRequest,
  HttpResponse,
  MiddlewareStack,
  RelativeMiddlewareOptions,
  SerializeMiddleware,
  StaticOperationSchema,
} from "@smithy/types";

/*
 * Replacements for three pieces of the SDK's per-request pipeline that redo, on every request,
 * work whose answer never changes for this service's client (bench/NOTES.md, "The lean DynamoDB
 * client", has the profile and the numbers). Each keeps the SDK's own name and position in the
 * stack, so nothing else in the pipeline (retries, signing, typed errors) sees a difference; the
 * serializer also sets the two headers of the SDK's build-step middleware, which are removed.
 */

type Stack = MiddlewareStack<Input, Output>;

/** The SDK's own placement of its endpoint middleware (@smithy/core endpointMiddlewareOptions). */
const ENDPOINT_MIDDLEWARE: RelativeMiddlewareOptions & { step: "serialize" } = {
  name: "endpointV2Middleware",
  step: "serialize",
  tags: ["ENDPOINT_PARAMETERS", "ENDPOINT_V2", "ENDPOINT"],
  override: true,
  relation: "before",
  toMiddleware: "serializerMiddleware",
};

/**
 * The SDK's endpoint middleware is added by every command when its stack is resolved, on top of
 * the client's stack, and per request it copies the whole client config, awaits a provider per
 * endpoint parameter (region, FIPS, dual-stack, endpoint, account id...) and asks the endpoint
 * provider, which for this client is a constant. So the stack a command resolves (the client's
 * stack `concat` the command's) gets, under the same name and in the same place, a middleware that
 * sets that constant endpoint. test/integration/dynamo-client.test.ts fails if the SDK's one still runs.
 */
export function useConstantEndpoint(client: DynamoDBClient, endpoint: EndpointV2): void {
  const setEndpoint: SerializeMiddleware<Input, Output> = (next, context) => (args) => {
    context.endpointV2 = endpoint;
    return next(args);
  };
  const stack = client.middlewareStack as unknown as { concat: (from: Stack) => Stack };
  const concat = stack.concat.bind(stack);
  stack.concat = (from: Stack) => {
    const resolved = concat(from);
    resolved.addRelativeTo(setEndpoint, ENDPOINT_MIDDLEWARE);
    return resolved;
  };
}

interface SmithyContext {
  readonly operationSchema?: StaticOperationSchema;
}

/** The SDK's operation schema object for its static tuple, as @smithy/core's serde middleware builds it. */
function operation(context: HandlerExecutionContext): $OperationSchema {
  const [, namespace, name, traits, input, output] = (context.__smithy_context as SmithyContext).operationSchema!;
  return { namespace, name, traits, input, output } as $OperationSchema;
}

/**
 * @smithy/core's schema (de)serialisation middleware hand the protocol `{ ...config, ...context }`:
 * a copy of the whole client config (≈ 90 properties) twice per request, for a protocol that reads
 * two of them. These hand it a context that inherits the config instead of copying it, so every
 * read sees the same values; the protocol (AwsJson1_0Protocol), its serialiser, its deserialiser and
 * its typed errors are the SDK's own.
 */
export function useInheritingSerde(client: DynamoDBClient): void {
  const config = client.config;
  const protocol = config.protocol as $ClientProtocol<HttpRequest, HttpResponse>;
  // Constant for this client (its configured endpoint); resolved once, not per request.
  let endpoint: Promise<Endpoint> | undefined;
  const endpointV1 = () => (endpoint ??= config.endpoint!());
  const serdeContext = (context: HandlerExecutionContext) => Object.assign(Object.create(config) as typeof config, context, { endpoint: endpointV1 });

  const serialize: SerializeMiddleware<Input, Output> = (next, context) => async (args) => {
    const request = await protocol.serializeRequest(operation(context), args.input, serdeContext(context));
    withLengthAndHost(request, config.bodyLengthChecker);
    return next({ ...args, request });
  };

  const deserialize: DeserializeMiddleware<Input, Output> = (next, context) => async (args) => {
    const { response } = await next(args);
    try {
      return { response, output: await protocol.deserializeResponse<Output>(operation(context), serdeContext(context), response as HttpResponse) };
    } catch (err) {
      throw withResponse(err, response as HttpResponse);
    }
  };

  client.middlewareStack.add(serialize, { name: "serializerMiddleware", step: "serialize", tags: ["SERIALIZER"], override: true });
  // Their work is done by `serialize` (withLengthAndHost).
  client.middlewareStack.remove("contentLengthMiddleware");
  client.middlewareStack.remove("hostHeaderMiddleware");
  client.middlewareStack.add(deserialize, { name: "deserializerMiddleware", step: "deserialize", tags: ["DESERIALIZER"], override: true });
}

/**
 * The two headers the SDK's build step would add next, each in a middleware of its own (an async
 * layer, and for content-length a copy of the headers, per request): the body's length as the
 * SDK's own `bodyLengthChecker` gives it (contentLengthMiddleware), and `host` as
 * hostHeaderMiddleware writes it for an HTTP/1.1 handler (hostname, then ":port" when the
 * endpoint has one). Neither is set by the protocol, and both are signed after this.
 */
function withLengthAndHost(request: HttpRequest, bodyLength: (body: unknown) => number | undefined): void {
  const length = request.body ? bodyLength(request.body) : undefined;
  if (length !== undefined) request.headers["content-length"] ??= String(length);
  request.headers.host ??= request.port === undefined ? request.hostname : `${request.hostname}:${request.port}`;
}

/**
 * What the SDK's deserializer middleware adds to a failure: the raw response (hidden), and for an
 * error that is not the service's own (a body that does not parse) the HTTP status and request id,
 * which src/store/store-errors.ts classifies by.
 */
function withResponse(err: unknown, response: HttpResponse): unknown {
  if (typeof err !== "object" || err === null) return err;
  Object.defineProperty(err, "$response", { value: response, enumerable: false, writable: false, configurable: false });
  if (!("$metadata" in err)) {
    Object.assign(err, { $metadata: { httpStatusCode: response.statusCode, requestId: response.headers["x-amzn-requestid"] } });
  }
  return err;
}
