import type { AttributeValue } from "@aws-sdk/client-dynamodb";

/** A number attribute that may be absent (e.g. a revocation time). */
export function optionalNumber(value: AttributeValue | undefined): number | undefined {
  return value?.N === undefined ? undefined : Number(value.N);
}
