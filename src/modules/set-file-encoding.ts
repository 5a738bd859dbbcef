/** @module modules/set-file-encoding: SetFileEncoding — re-encode a UTF-8 file in place. */
import { Fields, Text } from "../model/schema-kit.ts";
import { defineModule } from "./_define.ts";
import { Encoding, NoOutput } from "./_inputs.ts";

export default defineModule({
  name: "SetFileEncoding",
  summary: "Re-encodes an existing UTF-8 file into another encoding, in place.",
  platforms: ["linux", "windows", "macos"],
  shape: "list",
  input: Fields({ path: Text({ minLength: 1, description: "an existing UTF-8 file" }), encoding: Encoding() }),
  output: NoOutput(),
});
