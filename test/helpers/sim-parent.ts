/** The account the Twilio simulator's own tests run as, and the Basic authorization their requests carry. */
export const PARENT = "AC00000000000000000000000000000001";
export const PARENT_TOKEN = "parent-token";

/** HTTP Basic authorization of `user`, as Twilio's API takes its credentials. */
export const basicAuth = (user = PARENT, password = PARENT_TOKEN): string =>
  `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
