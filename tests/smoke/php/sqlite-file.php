<?php
// SQLite through PDO on a file in the preopened folder, in WAL mode (exclusive locking:
// the WAL index lives in heap memory, WASI has no shared memory), then through SQLite3.
$file = __DIR__ . '/sqlite-' . bin2hex(random_bytes(6)) . '.db';
$db = new PDO('sqlite:' . $file);
$db->setAttribute(PDO::ATTR_ERRMODE, PDO::ERRMODE_EXCEPTION);
echo $db->query('PRAGMA journal_mode=WAL')->fetchColumn(), "\n";
$db->exec('CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT)');
$insert = $db->prepare('INSERT INTO posts (title) VALUES (?)');
foreach (['héllo', 'wörld'] as $title) {
    $insert->execute([$title]);
}
echo implode(',', $db->query('SELECT title FROM posts ORDER BY id')->fetchAll(PDO::FETCH_COLUMN)), "\n";
// Exclusive locking: the next connection may open the file once this one is closed.
$insert = null;
$db = null;
$lite = new SQLite3($file);
echo $lite->querySingle('SELECT count(*) FROM posts'), "\n";
$lite->close();
foreach (glob($file . '*') as $leftover) {
    unlink($leftover);
}
echo "done\n";
