def run_pipeline(words):
    todo, done, saved = queue.Queue(), queue.Queue(), []
    fetchers = [threading.Thread(target=fetch, args=(todo, done)) for _ in range(2)]
    saver = threading.Thread(target=save, args=(done, saved))
    for t in [*fetchers, saver]:
        t.start()
    for word in words:
        todo.put(word)
    for _ in fetchers:
        todo.put(STOP)  # one sentinel per fetcher
    for t in fetchers:
        t.join(timeout=5)  # stage 1 has finished: everything it made is in `done`
    done.put(STOP)  # only now the saver's sentinel: it comes after the last result
    saver.join(timeout=5)
    return saved
