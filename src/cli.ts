/**
 * `parley start | migrate | create-admin`. Exit codes: 0 done, 1 runtime failure, 2 bad usage or configuration.
 */
import { parseArgs } from "node:util";
import { ConfigError, type Config, loadConfig, processEnv } from "./config/config.ts";
import { AppError } from "./domain/errors.ts";
import { createLogger, openServices, openStore, startServer } from "./main.ts";

const USAGE = `usage: parley <command> [options]

commands:
  start                         run the server (HTTP API, web app) on the configured port
  migrate                       apply pending database migrations and exit
  create-admin --username U --email E (--password P | --password-stdin) [--display-name N]
                                create an administrator, or promote an existing account with that username

configuration comes from PARLEY_* environment variables (see README.md).`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === "help" || command === "--help" || command === "-h") {
    console.log(USAGE);
    return command === undefined ? 2 : 0;
  }
  let config: Config;
  try {
    config = loadConfig(processEnv());
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message);
      return 2;
    }
    throw e;
  }
  switch (command) {
    case "start":
      return start(config);
    case "migrate":
      return migrate(config);
    case "create-admin":
      return createAdmin(config, rest);
    default:
      console.error(`unknown command: ${command}\n\n${USAGE}`);
      return 2;
  }
}

async function start(config: Config): Promise<number> {
  const logger = createLogger(config.logLevel);
  const server = await startServer(config, { logger });
  await new Promise<void>((resolve) => {
    const shutdown = (signal: string) => {
      logger.info({ signal }, "shutting down");
      server.stop().then(resolve, (e) => {
        logger.error({ err: e }, "shutdown failed");
        resolve();
      });
    };
    process.once("SIGINT", () => shutdown("SIGINT"));
    process.once("SIGTERM", () => shutdown("SIGTERM"));
  });
  return 0;
}

async function migrate(config: Config): Promise<number> {
  const store = openStore(config);
  try {
    await store.migrate();
    console.log(`migrations applied (${store.dialect})`);
    return 0;
  } finally {
    await store.close();
  }
}

async function createAdmin(config: Config, args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      username: { type: "string" },
      email: { type: "string" },
      password: { type: "string" },
      "password-stdin": { type: "boolean" },
      "display-name": { type: "string" },
    },
    strict: true,
  });
  const password = values["password-stdin"] ? (await Bun.stdin.text()).replace(/\r?\n$/, "") : values.password;
  if (!values.username || (!values.email && !password) || !password) {
    console.error(USAGE);
    return 2;
  }
  const { store, services } = await openServices(config);
  try {
    const existing = await store.users.findByLogin(values.username);
    if (existing && existing.username.toLowerCase() === values.username.toLowerCase()) {
      await store.users.update(existing.id, { role: "admin", status: "active" });
      console.log(`promoted ${existing.username} (${existing.id}) to admin`);
      return 0;
    }
    if (!values.email) {
      console.error("--email is required to create a new account");
      return 2;
    }
    const user = await services.auth.createUser(
      { username: values.username, email: values.email, password, displayName: values["display-name"] },
      "admin",
    );
    console.log(`created admin ${user.username} (${user.id})`);
    return 0;
  } catch (e) {
    if (e instanceof AppError) {
      console.error(`${e.code}: ${e.message}`);
      return 2;
    }
    throw e;
  } finally {
    await store.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : e);
    process.exit(1);
  },
);
