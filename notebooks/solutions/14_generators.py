# Solution to the exercise of 14_generators.ipynb (primed comes from the notebook).
@primed  # made ready to receive: run to its first yield
def averager():
    total = 0
    count = 0
    average = None
    while True:
        number = yield average  # hand out the average; receive the next number
        total += number
        count += 1
        average = total / count
