import { describe, expect, it } from "vitest";
import { conveyanceFor } from "../../src/attestation/conveyance.js";
import { attestationPolicySchema, type AttestationPolicy } from "../../src/attestation/policy.js";

const policy = (p: Record<string, unknown> = {}): AttestationPolicy => attestationPolicySchema.parse(p);
const direct = () => policy({ conveyance: "direct" });

describe("attestation conveyance", () => {
  it("the request chooses under none; a verifying tenant's conveyance wins", () => {
    expect(conveyanceFor(policy(), "direct")).toBe("direct");
    expect(conveyanceFor(policy(), "none")).toBe("none");
    expect(conveyanceFor(direct(), "none")).toBe("direct");
    expect(conveyanceFor(policy({ conveyance: "enterprise" }), "indirect")).toBe("enterprise");
  });
});
