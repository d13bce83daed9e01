def download_all(address, pages):
    # Download every page, each in its own thread; return the replies in the order of `pages`.
    replies = [None] * len(pages)  # one slot per page: each thread fills its own

    def fetch(i, page):
        replies[i] = download(address, page)

    threads = [threading.Thread(target=fetch, args=(i, page)) for i, page in enumerate(pages)]
    for thread in threads:  # start them all first: their waits overlap...
        thread.start()
    for thread in threads:  # ...then wait for each to finish
        thread.join(timeout=10)
    return replies
