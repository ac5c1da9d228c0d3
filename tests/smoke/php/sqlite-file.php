<?php
// SQLite on files in the preopened folder.
// 1. Two connections to one database at the same time, with the default (normal) locking
//    and the rollback journal: what WordPress's SQLite plugin does.
$file = __DIR__ . '/sqlite-' . bin2hex(random_bytes(6)) . '.db';
$first = new PDO('sqlite:' . $file);
$first->setAttribute(PDO::ATTR_ERRMODE, PDO::ERRMODE_EXCEPTION);
echo $first->query('PRAGMA journal_mode=DELETE')->fetchColumn(), "\n";
$first->exec('CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT)');
$insert = $first->prepare('INSERT INTO posts (title) VALUES (?)');
foreach (['héllo', 'wörld'] as $title) {
    $insert->execute([$title]);
}
$second = new SQLite3($file);
$second->exec("INSERT INTO posts (title) VALUES ('third')");
echo implode(',', $first->query('SELECT title FROM posts ORDER BY id')->fetchAll(PDO::FETCH_COLUMN)), "\n";
// A write transaction of one connection makes the other's write wait, then fail (busy).
$first->beginTransaction();
$first->exec("INSERT INTO posts (title) VALUES ('pending')");
echo @$second->exec("INSERT INTO posts (title) VALUES ('refused')") ? "second wrote\n" : "busy\n";
$first->commit();
echo $second->querySingle('SELECT count(*) FROM posts'), "\n";
$second->close();
$insert = null;
$first = null;
// 2. WAL: its index needs shared memory, which WASI lacks; in exclusive locking mode
//    SQLite keeps it in heap memory, so a connection that asks for that first can use WAL.
$wal = new PDO('sqlite:' . $file);
$wal->setAttribute(PDO::ATTR_ERRMODE, PDO::ERRMODE_EXCEPTION);
$wal->exec('PRAGMA locking_mode=EXCLUSIVE');
echo $wal->query('PRAGMA journal_mode=WAL')->fetchColumn(), "\n";
$wal->exec("INSERT INTO posts (title) VALUES ('logged')");
echo $wal->query('SELECT count(*) FROM posts')->fetchColumn(), "\n";
$wal = null;
foreach (glob($file . '*') as $leftover) {
    unlink($leftover);
}
echo "done\n";
