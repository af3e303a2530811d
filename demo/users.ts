import { createHash, randomUUID } from "node:crypto";

interface Account {
  readonly id: string;
  name: string;
  displayName: string;
  /** Whether the account exists: a passkey stored, or a one-time code used. */
  registered: boolean;
}

/**
 * The product's own user table, in memory: usernames belong to the product, not to dynauthn.
 * dynauthn only ever sees the opaque user id this directory hands out.
 */
export class UserDirectory {
  private readonly byName = new Map<string, Account>();
  private readonly byId = new Map<string, Account>();

  /**
   * The user id a sign-up for `username` registers under, or undefined when the name is taken.
   * A sign-up begun but never finished keeps its id, so retrying it is not "taken".
   */
  idForSignUp(username: string): string | undefined {
    const existing = this.byName.get(username);
    if (existing?.registered) return undefined;
    return (existing ?? this.add(username)).id;
  }

  /**
   * The user id a one-time code signs in: the account of that name, created on first use (the
   * demo's stand-in for an account that has a password but no passkey yet).
   */
  idForCodeSignIn(username: string): string {
    const account = this.byName.get(username) ?? this.add(username);
    account.registered = true;
    return account.id;
  }

  /** Marks the user as registered once dynauthn has stored their first passkey. */
  confirm(userId: string): void {
    const account = this.byId.get(userId);
    if (account) account.registered = true;
  }

  /**
   * The user id to begin a sign-in with. An unknown name gets a stable stand-in id that no user
   * has, so dynauthn answers with its decoy options and the page cannot tell who exists.
   */
  idForSignIn(username: string): string {
    const account = this.byName.get(username);
    if (account?.registered) return account.id;
    return `unknown_${createHash("sha256").update(username).digest("base64url")}`;
  }

  /** The names the user's passkeys show; undefined for an id this directory never handed out. */
  namesOf(userId: string): { readonly name: string; readonly displayName: string } | undefined {
    const account = this.byId.get(userId);
    return account && { name: account.name, displayName: account.displayName };
  }

  nameOf(userId: string): string | undefined {
    return this.byId.get(userId)?.name;
  }

  /** Whether `userId` may take `name`: nobody else has it. */
  isFreeFor(userId: string, name: string): boolean {
    const holder = this.byName.get(name);
    return holder === undefined || holder.id === userId;
  }

  /** Renames a user; false when another account has the name. */
  rename(userId: string, name: string, displayName: string): boolean {
    const account = this.byId.get(userId);
    if (!account || !this.isFreeFor(userId, name)) return false;
    this.byName.delete(account.name);
    account.name = name;
    account.displayName = displayName;
    this.byName.set(name, account);
    return true;
  }

  /** Forgets a user: the name is free again. */
  remove(userId: string): void {
    const account = this.byId.get(userId);
    if (!account) return;
    this.byId.delete(userId);
    this.byName.delete(account.name);
  }

  private add(username: string): Account {
    const account: Account = { id: `usr_${randomUUID()}`, name: username, displayName: username, registered: false };
    this.byName.set(username, account);
    this.byId.set(account.id, account);
    return account;
  }
}
