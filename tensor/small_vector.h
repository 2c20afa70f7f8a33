// SmallVector<T, N>: a std::vector-like array of trivially copyable values that keeps up to N
// of them inline and goes to the heap only beyond; the type of Shape. Not a general container:
// no allocator parameter, no element constructors or destructors.
//
// Why: every tensor and view carries two shapes (sizes, strides). As std::vector<int64_t> they
// cost two heap allocations per tensor: about 300 of the 442 made by one training step of a
// small MLP (784-64-10, batch 32). With N = 6 inline, tensors of up to 6 dimensions allocate
// nothing for their shapes.
//
// NOTE: unlike std::vector, moving a SmallVector that holds its values inline copies them, so
// pointers and iterators into the source do not carry over to the destination.
#pragma once

#include <algorithm>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <iterator>
#include <new>
#include <stdexcept>
#include <type_traits>
#include <vector>

namespace ignis {

template <typename T, size_t N>
class SmallVector {
  static_assert(std::is_trivially_copyable_v<T> && N > 0);

 public:
  using value_type = T;
  using size_type = size_t;
  using difference_type = std::ptrdiff_t;
  using reference = T&;
  using const_reference = const T&;
  using pointer = T*;
  using const_pointer = const T*;
  using iterator = T*;
  using const_iterator = const T*;
  using reverse_iterator = std::reverse_iterator<iterator>;
  using const_reverse_iterator = std::reverse_iterator<const_iterator>;

  SmallVector() = default;
  explicit SmallVector(size_t count, const T& value = T()) { assign(count, value); }
  SmallVector(std::initializer_list<T> values) { assign(values.begin(), values.end()); }
  template <std::input_iterator It>
  SmallVector(It first, It last) {
    assign(first, last);
  }
  // From and to std::vector, for code that builds a shape in a vector (one copy each way).
  SmallVector(const std::vector<T>& values) { assign(values.begin(), values.end()); }  // NOLINT
  std::vector<T> vec() const { return std::vector<T>(begin(), end()); }

  SmallVector(const SmallVector& other) { assign(other.begin(), other.end()); }
  SmallVector(SmallVector&& other) noexcept { take(other); }
  SmallVector& operator=(const SmallVector& other) {
    if (this != &other) assign(other.begin(), other.end());
    return *this;
  }
  SmallVector& operator=(SmallVector&& other) noexcept {
    if (this != &other) {
      release();
      take(other);
    }
    return *this;
  }
  SmallVector& operator=(std::initializer_list<T> values) {
    assign(values.begin(), values.end());
    return *this;
  }
  ~SmallVector() { release(); }

  void assign(size_t count, const T& value) {
    size_ = 0;
    reserve(count);
    std::fill_n(data_, count, value);
    size_ = count;
  }
  template <std::input_iterator It>
  void assign(It first, It last) {
    size_ = 0;
    if constexpr (std::forward_iterator<It>) {
      const auto count = static_cast<size_t>(std::distance(first, last));
      reserve(count);
      std::copy(first, last, data_);
      size_ = count;
    } else {
      for (; first != last; ++first) push_back(*first);
    }
  }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  size_t capacity() const { return capacity_; }
  T* data() { return data_; }
  const T* data() const { return data_; }

  iterator begin() { return data_; }
  iterator end() { return data_ + size_; }
  const_iterator begin() const { return data_; }
  const_iterator end() const { return data_ + size_; }
  const_iterator cbegin() const { return begin(); }
  const_iterator cend() const { return end(); }
  reverse_iterator rbegin() { return reverse_iterator(end()); }
  reverse_iterator rend() { return reverse_iterator(begin()); }
  const_reverse_iterator rbegin() const { return const_reverse_iterator(end()); }
  const_reverse_iterator rend() const { return const_reverse_iterator(begin()); }

  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }
  T& at(size_t i) { return data_[checked(i)]; }
  const T& at(size_t i) const { return data_[checked(i)]; }
  T& front() { return data_[0]; }
  const T& front() const { return data_[0]; }
  T& back() { return data_[size_ - 1]; }
  const T& back() const { return data_[size_ - 1]; }

  void reserve(size_t count) {
    if (count <= capacity_) return;
    const size_t capacity = std::max(count, 2 * capacity_);
    T* heap = static_cast<T*>(std::malloc(capacity * sizeof(T)));
    if (heap == nullptr) throw std::bad_alloc();
    std::copy(data_, data_ + size_, heap);
    release();
    data_ = heap;
    capacity_ = capacity;
  }
  void resize(size_t count, const T& value = T()) {
    reserve(count);
    if (count > size_) std::fill(data_ + size_, data_ + count, value);
    size_ = count;
  }
  void clear() { size_ = 0; }
  void push_back(const T& value) {
    const T copy = value;  // value may live in this vector, which reserve can move
    reserve(size_ + 1);
    data_[size_++] = copy;
  }
  T& emplace_back(const T& value) {
    push_back(value);
    return back();
  }
  void pop_back() { --size_; }

  iterator insert(const_iterator pos, const T& value) { return insert(pos, size_t{1}, value); }
  iterator insert(const_iterator pos, size_t count, const T& value) {
    const T copy = value;
    const size_t at = make_gap(pos, count);
    std::fill_n(data_ + at, count, copy);
    return data_ + at;
  }
  template <std::forward_iterator It>
  iterator insert(const_iterator pos, It first, It last) {
    const std::vector<T> values(first, last);  // the range may lie in this vector
    const size_t at = make_gap(pos, values.size());
    std::copy(values.begin(), values.end(), data_ + at);
    return data_ + at;
  }
  iterator insert(const_iterator pos, std::initializer_list<T> values) {
    return insert(pos, values.begin(), values.end());
  }
  iterator erase(const_iterator pos) { return erase(pos, pos + 1); }
  iterator erase(const_iterator first, const_iterator last) {
    const auto at = static_cast<size_t>(first - data_);
    const auto count = static_cast<size_t>(last - first);
    std::copy(data_ + at + count, data_ + size_, data_ + at);
    size_ -= count;
    return data_ + at;
  }

  void swap(SmallVector& other) noexcept {
    SmallVector tmp(std::move(other));
    other = std::move(*this);
    *this = std::move(tmp);
  }

  friend bool operator==(const SmallVector& a, const SmallVector& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
  }
  friend bool operator==(const SmallVector& a, const std::vector<T>& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
  }
  friend auto operator<=>(const SmallVector& a, const SmallVector& b) {
    return std::lexicographical_compare_three_way(a.begin(), a.end(), b.begin(), b.end());
  }

 private:
  bool inline_storage() const { return data_ == inline_; }
  void release() {
    if (!inline_storage()) std::free(data_);
    data_ = inline_;
    capacity_ = N;
  }
  // Takes other's values (its heap block, or a copy of its inline values); other ends empty.
  void take(SmallVector& other) {
    if (other.inline_storage()) {
      std::copy(other.data_, other.data_ + other.size_, inline_);
      data_ = inline_;
      capacity_ = N;
    } else {
      data_ = other.data_;
      capacity_ = other.capacity_;
      other.data_ = other.inline_;
      other.capacity_ = N;
    }
    size_ = other.size_;
    other.size_ = 0;
  }
  // Opens `count` slots at pos, moving the tail up; returns pos's index.
  size_t make_gap(const_iterator pos, size_t count) {
    const auto at = static_cast<size_t>(pos - data_);
    reserve(size_ + count);
    std::copy_backward(data_ + at, data_ + size_, data_ + size_ + count);
    size_ += count;
    return at;
  }
  size_t checked(size_t i) const {
    if (i >= size_) throw std::out_of_range("SmallVector::at: index out of range");
    return i;
  }

  T* data_ = inline_;
  size_t size_ = 0;
  size_t capacity_ = N;
  T inline_[N];
};

}  // namespace ignis
