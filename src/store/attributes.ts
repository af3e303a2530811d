import type { AttributeValue } from "@aws-sdk/client-dynamodb";

/** A number attribute that may be absent (e.g. a revocation time). */
export function optionalNumber(value: AttributeValue | undefined): number | undefined {
  return value?.N === undefined ? undefined : Number(value.N);
}

/** A boolean attribute that may be absent (e.g. an extension output the browser did not report). */
export function optionalBool(value: AttributeValue | undefined): boolean | undefined {
  return value?.BOOL;
}

/** An attribute for a boolean that may be unset: absent rather than stored when undefined. */
export function boolAttribute(name: string, value: boolean | undefined): Record<string, AttributeValue> {
  return value === undefined ? {} : { [name]: { BOOL: value } };
}
