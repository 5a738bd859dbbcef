/** Preloaded before every test file (bunfig.toml): a quiet, colourless, UTC environment. */
process.env.NO_COLOR = "1";
process.env.TZ = "UTC";
delete process.env.FORCE_COLOR;
// Nothing in the tests may restart this machine: every awstoe a test starts inherits "disabled"
// (save the state, exit 194, never reboot) unless the test itself chooses standalone mode with
// stand-ins for shutdown/systemctl/crontab first on PATH (test/e2e/reboot.test.ts).
process.env.AWSTOE_REBOOT_MODE = "disabled";
