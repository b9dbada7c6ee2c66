import { describe, expect, test } from "bun:test";
import { UNREAD_COUNT_MAX } from "./rules.ts";

describe("UNREAD_COUNT_MAX", () => {
  test("is the cap docs/asyncapi.yaml states for every unreadCount (the OpenAPI document is made from it)", async () => {
    const text = await Bun.file(new URL("../../docs/asyncapi.yaml", import.meta.url)).text();
    const doc = Bun.YAML.parse(text) as {
      components: { schemas: { UnreadCount: { maximum: number; description: string } } };
    };
    const schema = doc.components.schemas.UnreadCount;
    expect(schema.maximum).toBe(UNREAD_COUNT_MAX);
    expect(schema.description).toContain(`"${UNREAD_COUNT_MAX} or more"`);
  });
});
