class Account:
    def __init__(self):
        self.balance = 0
        self.history = []
        self.lock = threading.Lock()  # one lock per account, shared by every thread

    def record(self, amount):
        self.history.append(amount)

    def deposit(self, amount):
        with self.lock:  # from the read to the write, one thread at a time
            new_balance = self.balance + amount
            self.record(amount)
            self.balance = new_balance
