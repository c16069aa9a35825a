// npm preinstall: one line instead of a wall of engine warnings. The project's .npmrc sets loglevel=error, so on
// a Node older than 24 npm does not print an EBADENGINE block for each package that needs a newer Node; this says
// why that is fine. On Node 24 it prints nothing.
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  console.error(
    `note: node ${process.version} is older than 24; npm's engine warnings are hidden (.npmrc). ` +
      'Every npm script runs the project under Node 24, which scripts/node24.sh brings in from the npm registry.',
  );
}
