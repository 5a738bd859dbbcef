/** Preloaded before every test file (bunfig.toml): a quiet, colourless, UTC environment. */
process.env.NO_COLOR = "1";
process.env.TZ = "UTC";
delete process.env.FORCE_COLOR;
