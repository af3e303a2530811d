import type { DynamoDBClient, ServiceInputTypes as Input, ServiceOutputTypes as Output } from "@aws-sdk/client-dynamodb";
import type { SignatureV4 } from "@smithy/signature-v4";
import type { FinalizeRequestMiddleware, HandlerExecutionContext, HttpRequest, HttpResponse, RelativeMiddlewareOptions } from "@smithy/types";

/** The SDK's own placement of its signing middleware (@smithy/core httpSigningMiddlewareOptions). */
const SIGNING_MIDDLEWARE: RelativeMiddlewareOptions & { step: "finalizeRequest" } = {
  name: "httpSigningMiddleware",
  aliases: ["apiKeyMiddleware", "tokenMiddleware", "awsAuthMiddleware"],
  step: "finalizeRequest",
  tags: ["HTTP_SIGNING"],
  override: true,
  relation: "after",
  toMiddleware: "retryMiddleware",
};

/** What the SDK's AwsSdkSigV4Signer reads and records around one attempt for its clock-skew correction. */
interface SigningProperties {
  readonly config: DynamoDBClient["config"];
  readonly context: HandlerExecutionContext;
  readonly _disableClockSkewCorrection: boolean;
  readonly _preRequestSystemClockOffset: number;
  readonly _requestSentAt: number;
}

/** The clock-skew half of the SDK's AwsSdkSigV4Signer (@aws-sdk/core), the client's `aws.auth#sigv4` scheme. */
interface SkewCorrection {
  /** Samples the offset from a response's Date header into `config.systemClockOffset`. */
  successHandler(response: unknown, props: SigningProperties): void;
  /** Samples it from a failed attempt's server time, flags `$metadata.clockSkewCorrected` (which the retry strategy retries), rethrows. */
  errorHandler(props: SigningProperties): (err: unknown) => never;
}

/**
 * The SDK signs in two middleware that resolve, per request, a scheme that never changes for this
 * client: httpAuthSchemeMiddleware (serialize step) builds the auth-scheme parameters, awaits the
 * region, the scheme preference, an identity-provider config and the credentials (an "identity"
 * the SigV4 signer then ignores), and httpSigningMiddleware's AwsSdkSigV4Signer awaits the signer
 * provider and the clock-skew-correction switch before SignatureV4 asks the credential provider
 * again. The client's only scheme is SigV4 with signing name "dynamodb" in its region.
 *
 * This middleware, under the SDK's signing middleware's name and in its place (after the retry
 * middleware, so every attempt is signed afresh), signs each attempt with `signer` (the client's
 * one SignatureV4, which asks the client's credential provider on every signature: refreshed
 * credentials are used at once), dated with the SDK's clock-skew correction applied
 * (`config.systemClockOffset`), and hands each outcome to the SDK's own AwsSdkSigV4Signer
 * handlers, which update that offset as the SDK does; a clock-skew error is then retried by the
 * retry strategy with a corrected date. The auth-scheme middleware is removed: its one result,
 * the selected scheme, was read by the signing middleware alone (and by the endpoint middleware,
 * replaced in ./lean-middleware.ts). test/integration/dynamo-client.test.ts proves the
 * credentials, the clock-skew retry and that neither SDK middleware still runs.
 */
export function useConstantSigning(client: DynamoDBClient, signer: SignatureV4, region: string): void {
  const config = client.config;
  const sigv4 = config.httpAuthSchemes.find((scheme) => scheme.schemeId === "aws.auth#sigv4")?.signer as SkewCorrection | undefined;
  if (!sigv4?.successHandler || !sigv4.errorHandler) throw new Error("the SDK's aws.auth#sigv4 scheme has no clock-skew handlers");
  // AWS_DISABLE_CLOCK_SKEW_CORRECTION or the profile's disable_clock_skew_correction: read at the first request, as the SDK reads it once.
  let noSkewCorrection: boolean | undefined;
  const sign: FinalizeRequestMiddleware<Input, Output> = (next, context) => async (args) => {
    noSkewCorrection ??= (await config.disableClockSkewCorrection()) === true;
    const sentAt = Date.now();
    const offset = noSkewCorrection ? 0 : config.systemClockOffset;
    const props: SigningProperties = { config, context, _disableClockSkewCorrection: noSkewCorrection, _preRequestSystemClockOffset: offset, _requestSentAt: sentAt };
    const request = await signer.sign(args.request as HttpRequest, {
      signingDate: new Date(sentAt + offset),
      signingRegion: region,
      signingService: "dynamodb",
    });
    const output = await next({ ...args, request }).catch(sigv4.errorHandler(props));
    sigv4.successHandler(output.response as HttpResponse, props);
    return output;
  };
  client.middlewareStack.remove("httpAuthSchemeMiddleware");
  client.middlewareStack.addRelativeTo(sign, SIGNING_MIDDLEWARE);
}
