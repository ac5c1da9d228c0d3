<?php
// Run with zend.assertions=1, assert.exception=1, assert.bail=1: the failed
// assertion bails out with its AssertionError pending, which must still be reported
// (exit status 255) before the request shuts down.
register_shutdown_function(function () { echo "shutdown\n"; });
assert(false);
echo "not reached\n";
