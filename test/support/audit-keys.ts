// The operator's audit key pair of the test relays that seal audit entries (the `audit-sealed`
// vitest project sets AUDIT_PUBLIC_KEY to TEST_AUDIT_PUBLIC_KEY). A fixed, public test key: never
// use it for anything real. (Secret: the bytes (i * 37 + 11) mod 256, i = 0..31.)

export const TEST_AUDIT_PUBLIC_KEY = "Xp00K3yp3XSDwWF8jQfD6Zv/IchVqJlR5UjIXfl1uU0=";
export const TEST_AUDIT_SECRET_KEY = "CzBVep/E6Q4zWH2ix+wRNluApcrvFDleg6jN8hc8YYY=";
