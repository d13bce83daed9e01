SCRIPT = """\
import multiprocessing
from concurrent.futures import ProcessPoolExecutor


def square(x):  # at the top level of the file: a worker finds it by module and name
    return x * x


def sum_of_squares(numbers):
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=2, mp_context=spawn) as pool:
        return sum(pool.map(square, numbers, timeout=60))


if __name__ == "__main__":  # not when a worker runs this file again, as __mp_main__
    print("sum of the squares of 0..99:", sum_of_squares(range(100)))
"""
