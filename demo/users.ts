import { createHash, randomUUID } from "node:crypto";

/**
 * The product's own user table, in memory: usernames belong to the product, not to dynauthn.
 * dynauthn only ever sees the opaque user id this directory hands out.
 */
export class UserDirectory {
  private readonly byName = new Map<string, { id: string; registered: boolean }>();
  private readonly nameById = new Map<string, string>();

  /**
   * The user id a sign-up for `username` registers under, or undefined when the name is taken.
   * A sign-up begun but never finished keeps its id, so retrying it is not "taken".
   */
  idForSignUp(username: string): string | undefined {
    const existing = this.byName.get(username);
    if (existing?.registered) return undefined;
    if (existing) return existing.id;
    const id = `usr_${randomUUID()}`;
    this.byName.set(username, { id, registered: false });
    this.nameById.set(id, username);
    return id;
  }

  /** Marks the user as registered once dynauthn has stored their first passkey. */
  confirm(userId: string): void {
    const name = this.nameById.get(userId);
    const entry = name === undefined ? undefined : this.byName.get(name);
    if (entry) entry.registered = true;
  }

  /**
   * The user id to begin a sign-in with. An unknown name gets a stable stand-in id that no user
   * has, so dynauthn answers with its decoy options and the page cannot tell who exists.
   */
  idForSignIn(username: string): string {
    const entry = this.byName.get(username);
    if (entry?.registered) return entry.id;
    return `unknown_${createHash("sha256").update(username).digest("base64url")}`;
  }

  nameOf(userId: string): string | undefined {
    return this.nameById.get(userId);
  }
}
