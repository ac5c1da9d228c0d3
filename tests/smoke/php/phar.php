<?php
// Builds a phar in the preopened folder (run with -d phar.readonly=0), reads it back
// through phar://, includes code from it, then removes it. Phar writes through a
// temporary file: run with -d sys_temp_dir=/app/tmp (no /tmp is preopened).
$file = __DIR__ . '/smoke-' . bin2hex(random_bytes(6)) . '.phar';
$phar = new Phar($file);
$phar->addFromString('lib/greet.php', '<?php function greet($n) { return "hello from phar, $n"; }');
$phar->addFromString('data/note.txt', str_repeat('note ', 3));
$phar->setStub('<?php __HALT_COMPILER();');
unset($phar);
$read = new Phar($file);
echo count($read), " files\n";
echo trim(file_get_contents("phar://$file/data/note.txt")), "\n";
include "phar://$file/lib/greet.php";
echo greet('wasi'), "\n";
foreach (new RecursiveIteratorIterator($read) as $entry) {
    $names[] = substr($entry->getPathname(), strlen("phar://$file/"));
}
sort($names);
echo implode(',', $names), "\n";
unset($read);
Phar::unlinkArchive($file);
clearstatcache();
echo file_exists($file) ? "left behind" : "removed", "\n";
